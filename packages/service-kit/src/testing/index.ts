export * from './database.js';
export * from './nats.js';
