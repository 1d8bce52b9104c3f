-- Databases of the spine's own services; the OLTP source database is the default one (POSTGRES_DB).
CREATE DATABASE registry;
CREATE DATABASE residency;
CREATE DATABASE lineage;
CREATE DATABASE analytics;  -- the CDC router's sink (deploy/cdc/routes.yaml)
