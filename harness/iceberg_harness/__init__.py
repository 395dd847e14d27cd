"""Interop harness: write Iceberg tables with Iceberg's own writers, read them back with Spark, PyIceberg
and DuckDB, and print canonical results (see harness/README.md)."""
