/** The Kraken spot REST + WebSocket v2 emulator, for testing KrakenBroker through the real ccxt client. */
export { startKrakenEmulator, type EmulatorOptions, type KrakenEmulator, type RecordedRequest } from './server.ts';
export { generateKey, krakenSignature, verifyKrakenSignature } from './sign.ts';
export { loadCandleCsv, loadRepoCandles, parseCandleCsv } from './csv.ts';
export { FaultSpecSchema, ScenarioSchema, parseScenario, type FaultAction, type FaultSpec, type Scenario } from './faults.ts';
export { KrakenError, KrakenExchange, type EmuOrder, type EmuTrade, type KeyInit, type LedgerEntry, type MarginAttempt, type SystemStatus } from './exchange.ts';
export { bookChecksum } from './ws.ts';
export { PAIRS, ASSETS, type PairDef, type AssetDef } from './markets.ts';
export { REST_TIERS, TRADING_TIERS, cancelPenalty, type Tier } from './ratelimit.ts';
