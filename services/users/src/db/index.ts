import {
  AuditLog,
  createAuditLogsMigration,
  createAuditLogsPartitioningMigration,
  messagingMigrations,
} from '@shop/service-kit';
import { UserAddress } from './entities/address.entity.js';
import { UserPaymentMethod } from './entities/payment-method.entity.js';
import { User } from './entities/user.entity.js';
import { CreateAccounts1795624206186 } from './migrations/1795624206186-create-accounts.js';
import { TokenVersions1795633200000 } from './migrations/1795633200000-token-versions.js';
import { TokensRevokedAtIndex1795633200001 } from './migrations/1795633200001-tokens-revoked-at-index.js';
import { AccountChildrenCascade1795636122802 } from './migrations/1795636122802-account-children-cascade.js';
import { ValidateAccountConstraints1795636122803 } from './migrations/1795636122803-validate-account-constraints.js';

/** The users schema: what the service owns, and the migrations that build it. */
export const usersDatabase = {
  schema: 'users',
  role: 'users_svc',
  entities: [AuditLog, User, UserAddress, UserPaymentMethod],
  migrations: [
    ...messagingMigrations,
    createAuditLogsMigration({ entityTypes: ['user', 'address', 'payment_method'] }),
    CreateAccounts1795624206186,
    TokenVersions1795633200000,
    TokensRevokedAtIndex1795633200001,
    AccountChildrenCascade1795636122802,
    ValidateAccountConstraints1795636122803,
    createAuditLogsPartitioningMigration(),
  ],
};
