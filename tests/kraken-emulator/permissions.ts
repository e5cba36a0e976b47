/**
 * Kraken API-key permissions, as Kraken's key settings name them, and the permissions each private
 * method needs (Kraken's REST reference, "API Key Permissions Required"). A call without them is
 * answered `EGeneral:Permission denied` — after authentication and the REST counter, as Kraken does.
 */
import { z } from 'zod';

export const PERMISSIONS = [
  'query-funds', // Funds: Query
  'deposit-funds', // Funds: Deposit
  'withdraw-funds', // Funds: Withdraw
  'query-open-orders', // Orders and trades: Query open orders & trades
  'query-closed-orders', // Orders and trades: Query closed orders & trades
  'modify-orders', // Orders and trades: Create & modify orders
  'cancel-orders', // Orders and trades: Cancel & close orders
  'query-ledger', // Data: Query ledger entries
  'export-data', // Data: Export data
  'websockets', // WebSocket interface: On
] as const;
export type Permission = (typeof PERMISSIONS)[number];
export const PermissionSchema = z.enum(PERMISSIONS);

/** A trading key: everything a trading bot uses, and no funding beyond reading balances. */
export const DEFAULT_PERMISSIONS: readonly Permission[] = ['query-funds', 'query-open-orders', 'query-closed-orders', 'modify-orders', 'cancel-orders', 'query-ledger', 'websockets'];

/** Every permission in one list must be held; of a method with several lists, any one list will do. */
const REQUIRED: Record<string, Permission[][]> = {
  Balance: [['query-funds']],
  BalanceEx: [['query-funds']],
  TradeBalance: [['query-funds']],
  TradeVolume: [['query-funds']],
  OpenOrders: [['query-open-orders']],
  ClosedOrders: [['query-closed-orders']],
  QueryOrders: [['query-open-orders'], ['query-closed-orders']],
  TradesHistory: [['query-closed-orders']],
  QueryTrades: [['query-closed-orders']],
  Ledgers: [['query-ledger']],
  AddOrder: [['modify-orders']], // also with validate=true
  AmendOrder: [['modify-orders']],
  CancelOrder: [['cancel-orders']],
  CancelAll: [['cancel-orders']],
  GetWebSocketsToken: [['websockets']],
  WithdrawMethods: [['query-funds', 'withdraw-funds']],
};

/** True when a key holding `held` may call `method`; methods the emulator does not serve need nothing (they answer Unknown method). */
export function permitted(method: string, held: ReadonlySet<Permission>): boolean {
  const options = REQUIRED[method];
  return options === undefined || options.some((all) => all.every((p) => held.has(p)));
}
