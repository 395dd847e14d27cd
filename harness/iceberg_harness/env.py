"""Where the harness's tools live, and how its engines are started.

Everything is installed by scripts/setup-harness.sh: the venv in .tools/py and the jars of
harness/jars.txt in .cache/jars. Nothing here downloads anything at run time: Spark gets its jars from
the local folder, DuckDB loads its extensions from the installed wheels (never from the network).
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HARNESS_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = HARNESS_DIR.parent
JARS_DIR = Path(os.environ.get("IMSYNC_HARNESS_JARS", str(REPO_ROOT / ".cache" / "jars")))
JAR_LIST = HARNESS_DIR / "jars.txt"


def log(msg: str) -> None:
    """Progress goes to stderr; stdout carries the JSON result only."""
    print(f"[harness {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pin_utc() -> None:
    """PySpark renders TimestampType in the process's local zone: make that UTC everywhere."""
    os.environ["TZ"] = "UTC"
    if hasattr(time, "tzset"):
        time.tzset()


def jar_coordinates() -> list[tuple[str, str, str]]:
    out = []
    for line in JAR_LIST.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            g, a, v = line.split(":")
            out.append((g, a, v))
    return out


def jar_paths() -> list[Path]:
    paths = [JARS_DIR / f"{a}-{v}.jar" for _, a, v in jar_coordinates()]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise RuntimeError(f"missing jars (run scripts/setup-harness.sh): {', '.join(missing)}")
    return paths


def iceberg_runtime_version() -> str:
    for _, a, v in jar_coordinates():
        if a.startswith("iceberg-spark-runtime"):
            return f"{a}:{v}"
    return "?"


_SPARK = None


def spark_session(extra_conf: dict[str, str] | None = None):
    """One local Spark session per process (JVM start is slow): local[2], small memory, quiet logs."""
    global _SPARK
    if _SPARK is not None:
        return _SPARK
    pin_utc()
    from pyspark.sql import SparkSession

    jars = [str(p) for p in jar_paths()]
    scratch = Path(tempfile.mkdtemp(prefix="iceberg-harness-spark-"))
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # loopback only, no interface lookup
    os.environ["SPARK_LOCAL_DIRS"] = str(scratch / "local")
    # Spark's launcher prints a few lines to stderr; log4j goes to stderr too (console appender).
    builder = (
        SparkSession.builder.master("local[2]")
        .appName("iceberg-harness")
        .config("spark.driver.memory", os.environ.get("IMSYNC_HARNESS_DRIVER_MEMORY", "1g"))
        # On the JVM's own class path (not spark.jars): the JDBC driver must be visible to DriverManager.
        .config("spark.driver.extraClassPath", os.pathsep.join(jars))
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.sql.warehouse.dir", str(scratch / "spark-warehouse"))
        .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
    )
    for k, v in (extra_conf or {}).items():
        builder = builder.config(k, v)
    t0 = time.time()
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    log(f"spark {spark.version} started in {time.time() - t0:.1f}s ({iceberg_runtime_version()})")
    _SPARK = spark

    def _stop() -> None:
        try:
            spark.stop()
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    atexit.register(_stop)
    return spark


def duckdb_extension_files() -> dict[str, str]:
    """The DuckDB extensions shipped as wheels (duckdb-extension-avro, duckdb-extension-iceberg)."""
    import duckdb

    found: dict[str, str] = {}
    for mod in ("duckdb_extension_avro", "duckdb_extension_iceberg"):
        m = __import__(mod)
        name = mod.removeprefix("duckdb_extension_")
        base = os.path.dirname(m.__file__)
        want = os.path.join(base, "extensions", f"v{duckdb.__version__}", f"{name}.duckdb_extension")
        if not os.path.isfile(want):
            have = glob.glob(os.path.join(base, "extensions", "*", "*.duckdb_extension"))
            raise RuntimeError(
                f"{mod} has no build for duckdb {duckdb.__version__} (has: {have}); "
                "pin duckdb to the extension's version in harness/requirements.txt"
            )
        found[name] = want
    return found


def duckdb_connect():
    """An in-memory DuckDB with avro+iceberg loaded from the wheels; auto-install/auto-load off (offline)."""
    import duckdb

    con = duckdb.connect(
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
            "threads": 2,
        }
    )
    con.execute("SET TimeZone = 'UTC'")
    for _name, path in duckdb_extension_files().items():  # avro first: iceberg needs it
        con.execute(f"LOAD '{path}'")
    return con


def versions() -> dict[str, str]:
    out: dict[str, str] = {"python": sys.version.split()[0]}
    for mod, key in (
        ("pyspark", "pyspark"),
        ("pyiceberg", "pyiceberg"),
        ("pyarrow", "pyarrow"),
        ("duckdb", "duckdb"),
    ):
        try:
            out[key] = __import__(mod).__version__
        except Exception as e:  # noqa: BLE001
            out[key] = f"unavailable: {e}"
    try:
        from importlib.metadata import version

        out["duckdb-extension-iceberg"] = version("duckdb-extension-iceberg")
    except Exception:  # noqa: BLE001
        pass
    out["iceberg-spark-runtime"] = iceberg_runtime_version()
    return out
