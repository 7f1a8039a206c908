# One image per service: `docker build --build-arg SERVICE=orders -t shop-orders .`
# Services run from TypeScript through tsx, the same way `pnpm start` runs them.
FROM node:20.20-bookworm-slim AS deps
RUN npm install -g pnpm@10.34.8
WORKDIR /app
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json .npmrc ./
COPY packages/contracts/package.json packages/contracts/
COPY packages/service-kit/package.json packages/service-kit/
COPY services/users/package.json services/users/
COPY services/inventory/package.json services/inventory/
COPY services/payments/package.json services/payments/
COPY services/orders/package.json services/orders/
COPY services/gateway/package.json services/gateway/
COPY test/package.json test/
RUN pnpm install --frozen-lockfile

FROM deps AS runtime
ARG SERVICE
ENV SERVICE=${SERVICE} NODE_ENV=production
COPY tsconfig.base.json tsconfig.json ./
COPY packages packages
COPY services services
COPY scripts scripts
USER node
CMD ["sh", "-c", "exec node --import tsx services/${SERVICE}/src/main.ts"]
