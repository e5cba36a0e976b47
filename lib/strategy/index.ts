export type * from './signal.ts';
export * from './intent.ts';
export * from './clientId.ts';
export * from './indicators.ts';
export * from './baseline.ts';
export * from './trend.ts';
export * from './settings.ts';
export * from './target.ts';
export * from './decide.ts';
