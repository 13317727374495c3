export * from './binding-state.ts';
export * from './errors.ts';
export * from './limits.ts';
export * from './locale.ts';
export * from './money.ts';
export * from './purchase-state.ts';
export * from './state-machine.ts';
export * from './wallets.ts';
