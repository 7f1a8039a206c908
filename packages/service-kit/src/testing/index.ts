export * from './database.js';
export * from './nats.js';
export * from './ports.js';
export * from './service.js';
export * from './wait.js';
export * from './schema.js';
