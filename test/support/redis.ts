import { masterOfKey as masterOf } from "../../scripts/chaos/faults";
import { localLoadTarget } from "../../scripts/load/target";
import { testLayout } from "../stack/test-stack";

/** The stack name (redis-N) of the master currently serving the hash slot of `key`. */
export const masterOfKey = (key: string) => masterOf(localLoadTarget(testLayout().root), key);
