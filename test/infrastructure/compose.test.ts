import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_PORTS } from '@shop/service-kit';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../../scripts/lib/system.js';

// No Docker engine runs here, so the compose file and Dockerfile are checked for what can go
// wrong without one: a service left out, a setting a service does not read, a port that does
// not match, a workspace package the image would not install.
interface ComposeService {
  build?: { context: string; args?: Record<string, string> };
  image?: string;
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  command?: string[];
}

const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), {
  merge: true,
}) as { services: Record<string, ComposeService> };
const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const serviceDirectories = readdirSync(path.join(ROOT, 'services'));

describe('docker-compose.yml', () => {
  it('runs every service from this repository, each built with its SERVICE argument', () => {
    for (const name of serviceDirectories) {
      const service = compose.services[name];
      expect(service, `compose service ${name}`).toBeDefined();
      expect(service?.build?.args?.SERVICE).toBe(name);
    }
  });

  it('gives every service the infrastructure it needs, healthy before it starts', () => {
    for (const name of serviceDirectories) {
      const dependsOn = compose.services[name]?.depends_on ?? {};
      expect(dependsOn.postgres?.condition).toBe('service_healthy');
      expect(dependsOn.nats?.condition).toBe('service_healthy');
      expect(dependsOn.redis?.condition).toBe('service_healthy');
      expect(dependsOn['dev-secrets']?.condition).toBe('service_completed_successfully');
    }
    expect(compose.services.nats?.command).toContain('-js');
  });

  it('listens on the default ports and points every upstream URL at a compose service', () => {
    for (const name of serviceDirectories) {
      const environment = compose.services[name]?.environment ?? {};
      const key = name.toUpperCase() as keyof typeof DEFAULT_PORTS;
      expect(Number(environment[`${key}_PORT`])).toBe(DEFAULT_PORTS[key]);
      for (const [variable, value] of Object.entries(environment)) {
        if (!variable.endsWith('_URL') || !String(value).startsWith('http')) continue;
        const host = new URL(String(value)).hostname;
        expect(compose.services[host], `${name}.${variable} → ${host}`).toBeDefined();
      }
    }
    expect(compose.services.gateway?.ports).toContain(`${DEFAULT_PORTS.GATEWAY}:8080`);
  });

  it("gives the services' roles a password, since the compose Postgres asks for one over TCP", () => {
    const postgres = compose.services.postgres?.environment ?? {};
    // The image's default auth for TCP connections is scram once a superuser password is set;
    // a role made without a password could then never log in.
    expect(postgres.POSTGRES_PASSWORD).toBeTruthy();
    expect(postgres.POSTGRES_HOST_AUTH_METHOD).toBeUndefined();
    for (const name of serviceDirectories) {
      if (name === 'gateway') continue;
      const environment = compose.services[name]?.environment ?? {};
      expect(String(environment.DATABASE_ROLE_PASSWORD ?? ''), name).not.toBe('');
    }
  });

  it('passes only settings the services read', () => {
    const known = new Set<string>();
    for (const name of serviceDirectories) {
      const config = readFileSync(path.join(ROOT, 'services', name, 'src', 'config.ts'), 'utf8');
      for (const match of config.matchAll(/\b([A-Z][A-Z0-9_]+):/g)) known.add(match[1]!);
    }
    const runtime = readFileSync(
      path.join(ROOT, 'packages', 'service-kit', 'src', 'runtime.ts'),
      'utf8',
    );
    for (const match of runtime.matchAll(/\b([A-Z][A-Z0-9_]+):/g)) known.add(match[1]!);
    // Read by every service, outside its config schema.
    for (const variable of ['JWT_PUBLIC_KEY', 'JWT_PRIVATE_KEY', 'INTERNAL_API_TOKEN']) {
      known.add(variable);
    }
    for (const name of serviceDirectories) {
      for (const variable of Object.keys(compose.services[name]?.environment ?? {})) {
        // Upstream URLs are read through withDefaultAddresses.
        if (/_URL$/.test(variable) && variable !== 'DATABASE_URL') continue;
        expect(known.has(variable), `${name} is given ${variable}`).toBe(true);
      }
    }
  });
});

describe('Dockerfile', () => {
  it('copies every workspace package manifest before installing, so the lockfile applies', () => {
    const manifests = [
      ...readdirSync(path.join(ROOT, 'packages')).map((name) => `packages/${name}/package.json`),
      ...serviceDirectories.map((name) => `services/${name}/package.json`),
      'test/package.json',
    ];
    for (const manifest of manifests) expect(dockerfile).toContain(`COPY ${manifest}`);
    expect(dockerfile).toMatch(/pnpm install --frozen-lockfile/);
    expect(dockerfile).toMatch(/pnpm@10\.34\.8/);
  });
});
