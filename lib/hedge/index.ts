export * from './settings.ts';
export * from './policy.ts';
export * from './rebalance.ts';
export * from './performance.ts';
export * from './inputs.ts';
