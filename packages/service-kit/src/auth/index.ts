export * from './roles.js';
export * from './jwt.js';
export * from './revocation.js';
export * from './internal.js';
export * from './dev-keys.js';
