export * from './client.ts';
export * from './migrate.ts';
export * from './scope.ts';
export * from './runtime-role.ts';
