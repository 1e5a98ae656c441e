# kpki container image: build stage compiles better-sqlite3, generates the Prisma clients and
# compiles TypeScript; the runtime stage carries only production dependencies and the build.
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY prisma.config.ts tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY openapi ./openapi
COPY proto ./proto
COPY bin ./bin
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    KPKI_DATA_DIR=/var/lib/kpki \
    KPKI_LISTEN=:8443
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/prisma/migrations ./prisma/migrations
COPY --from=build /app/openapi ./openapi
# The KMS v2 plugin (kpki kms-plugin) loads the upstream proto at start.
COPY --from=build /app/proto ./proto
# /var/run/kmsplugin: the plugin's socket directory (a volume shared with kube-apiserver), owned by
# the unprivileged user so a fresh volume is writable.
RUN mkdir -p /var/lib/kpki /var/run/kmsplugin && chown node:node /var/lib/kpki /var/run/kmsplugin
USER node
VOLUME ["/var/lib/kpki"]
EXPOSE 8443
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s CMD ["node", "-e", "require('https').get({host:'localhost',port:8443,path:'/readyz',ca:require('fs').readFileSync('/var/lib/kpki/ca-bundle.pem')},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/kpki.js"]
CMD ["serve"]
