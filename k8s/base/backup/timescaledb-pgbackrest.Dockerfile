# TimescaleDB with pgBackRest, for continuous WAL archiving (archive_command) and backups in the pod.
# Same base image as k8s/base/timescaledb.yaml, so the data volume, uid 70 and PGDATA stay as they are.
# Build and push it next to the Aether image, then set its name in the overlay's `images:`:
#   docker build -f k8s/base/backup/timescaledb-pgbackrest.Dockerfile -t registry.example.com/aether/timescaledb-pgbackrest:2.17.2-pg16 .
# Pin the base by digest like the Aether image (Dockerfile): docker buildx imagetools inspect timescale/timescaledb:2.17.2-pg16
FROM timescale/timescaledb:2.17.2-pg16
RUN apk add --no-cache pgbackrest \
    && pgbackrest version
