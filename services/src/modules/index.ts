import type { ApiRouter } from "../platform/api-router";
import type { Platform } from "../platform/platform";
import { accountsRoutes } from "./accounts/router";
import { catalogRoutes } from "./catalog/router";
import { healthRoutes } from "./health/router";
import { ordersRoutes } from "./orders/router";
import { profilesRoutes } from "./profiles/router";
import { signInsRoutes } from "./sign-ins/router";
import { flashSalesRoutes } from "./flash-sales/router";
import { redPacketsRoutes } from "./red-packets/router";
import { naiveBaselineRoutes } from "./naive-baseline/router";
import { ledgerAdminRoutes } from "./ledger/admin-router";

/** A feature module registers its documented routes. */
export type Module = (api: ApiRouter, platform: Platform) => void;

/** Every feature module, in the order their routes are matched. */
export const modules: Module[] = [
  healthRoutes,
  accountsRoutes,
  ordersRoutes,
  catalogRoutes,
  profilesRoutes,
  signInsRoutes,
  flashSalesRoutes,
  redPacketsRoutes,
  ledgerAdminRoutes,
  naiveBaselineRoutes,
];
