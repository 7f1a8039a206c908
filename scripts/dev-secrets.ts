// Makes the development signing keys and internal credential once (docker compose runs this
// before the services; `pnpm start` does the same in-process).
import { defaultDevSecretsPath, loadOrCreateDevSecrets } from '@shop/service-kit';

await loadOrCreateDevSecrets();
console.log(`development secrets ready at ${defaultDevSecretsPath()}`);
