# One image for every Data Spine service; the compose file picks the service with its command.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY spine ./spine
COPY registry ./registry
COPY residency_gate ./residency_gate
COPY cdc ./cdc
COPY lineage ./lineage
COPY oml ./oml
COPY cli ./cli
COPY schemas ./schemas
RUN pip install '.[all]' && useradd --system --home-dir /var/lib/spine --create-home spine
USER spine
ENV SPINE_HOME=/var/lib/spine
ENTRYPOINT ["python", "-m"]
CMD ["cli", "--help"]
