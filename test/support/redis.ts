import { masterOfKey as masterOf } from "../../scripts/chaos/faults";
import { loadTarget } from "../../scripts/load/target";
import { testLayout, testTopology } from "../stack/test-stack";

/** The stack name (redis-N) of the master currently serving the hash slot of `key`. */
export const masterOfKey = (key: string) => masterOf(loadTarget(testTopology(), testLayout().root), key);
