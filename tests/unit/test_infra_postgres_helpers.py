"""Pure helpers of the embedded PostgreSQL runner."""

from __future__ import annotations

from pathlib import Path

from infra.postgres import database_url, postgres_argv, postgres_bin_dir, postmaster_pid


def test_the_wheel_ships_the_binaries_we_run() -> None:
    for name in ("postgres", "initdb", "pg_isready"):
        assert (postgres_bin_dir() / name).is_file()


def test_the_postmaster_listens_on_loopback_tcp_only() -> None:
    argv = postgres_argv(Path("/data/pg"), 5999)
    assert argv[0].endswith("/postgres")
    assert argv[1:3] == ["-D", "/data/pg"]
    settings = [argv[i + 1] for i, arg in enumerate(argv) if arg == "-c"]
    assert settings == ["listen_addresses=127.0.0.1", "port=5999", "unix_socket_directories="]


def test_postmaster_pid_reads_the_first_line(tmp_path: Path) -> None:
    (tmp_path / "postmaster.pid").write_text("4242\n/data/pg\n1700000000\n5432\n")
    assert postmaster_pid(tmp_path) == 4242


def test_postmaster_pid_is_none_when_absent_or_garbled(tmp_path: Path) -> None:
    assert postmaster_pid(tmp_path) is None
    (tmp_path / "postmaster.pid").write_text("")
    assert postmaster_pid(tmp_path) is None


def test_database_urls_are_sqlalchemy_asyncpg_urls() -> None:
    assert database_url(6001) == "postgresql+asyncpg://postgres@127.0.0.1:6001/postgres"
    assert database_url(6001, database="x").endswith(":6001/x")
