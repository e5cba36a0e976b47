/** The Kraken spot REST + WebSocket v2 emulator, for testing KrakenBroker through the real ccxt client. */
export { startKrakenEmulator, type EmulatorOptions, type KrakenEmulator, type PrivateRequestHook, type RecordedRequest } from './server.ts';
export { generateKey, krakenSignature, verifyKrakenSignature } from './sign.ts';
export { loadCandleCsv, loadRepoCandles, parseCandleCsv } from './csv.ts';
export { FaultSpecSchema, ScenarioSchema, isProcessingFault, parseScenario, type FaultAction, type FaultSpec, type ProcessingFault, type Scenario } from './faults.ts';
export { KrakenError, KrakenExchange, type EmuOrder, type EmuTrade, type KeyInit, type LedgerEntry, type MarginAttempt, type SystemStatus } from './exchange.ts';
export { bookChecksum } from './ws.ts';
export { DEFAULT_PERMISSIONS, PERMISSIONS, permitted, type Permission } from './permissions.ts';
export { PAIRS, ASSETS, type PairDef, type AssetDef } from './markets.ts';
export { ADD_ORDER_COST, DEFAULT_LOCKOUT, REST_TIERS, TRADING_TIERS, amendCost, cancelPenalty, restCost, type LockoutPolicy, type Tier } from './ratelimit.ts';
