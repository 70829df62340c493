# syntax=docker/dockerfile:1
# The operator image (also the image of the run Jobs and the `kafka-backup` CLI). `npm run image`
# builds the same image without a Docker daemon (scripts/image/): same root filesystem layout
# (scripts/image/rootfs.sh), same configuration (scripts/image/config.ts; a test compares them).
#
#   docker build -t ghcr.io/oso/kafka-backup-k8s:0.1.0 .

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the `node` devDependency would download a second Node; the base image has it.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY runtime runtime
COPY scripts/bundle-cli.ts scripts/
RUN node --import tsx scripts/bundle-cli.ts --outdir /app/build/cli \
 && cp package.json package-lock.json /app/ \
 && cd /app && npm ci --omit=dev --ignore-scripts --no-audit --no-fund && rm package-lock.json

FROM build AS rootfs
COPY scripts/image/rootfs.sh /usr/local/bin/rootfs.sh
RUN rootfs.sh "$(command -v node)" /app /rootfs

FROM scratch
COPY --from=rootfs /rootfs/ /
USER 65532:65532
WORKDIR /app
ENV NODE_ENV=production
LABEL org.opencontainers.image.title="kafka-backup-k8s" \
      org.opencontainers.image.description="Kafka backup and restore for Kubernetes: typed cdk8s constructs that synthesize GitOps-ready manifests, and the operator, engine and CLI that run them." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.source="https://github.com/oso/kafka-backup-k8s"
ENTRYPOINT ["/usr/local/bin/node", "/app/build/cli/kafka-backup.js"]
CMD ["operator"]
