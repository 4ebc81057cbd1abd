"""Process configuration, read from the environment (and `.env`) by pydantic-settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything a process of Empreinte reads from its environment.

    `DATABASE_URL` and `NATS_URL` left unset mean "start the embedded servers"
    (see `infra.embedded`); a deployment always sets both.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    nats_url: str | None = Field(default=None, alias="NATS_URL")
    # Root of every NATS subject and stream name; tests use a unique one per session.
    namespace: str = Field(
        default="empreinte", alias="EMPREINTE_NAMESPACE", pattern=r"^[a-z][a-z0-9_]*$"
    )
    data_dir: Path = Field(default=Path(".empreinte"), alias="EMPREINTE_DATA_DIR")
    log_level: str = Field(default="INFO", alias="EMPREINTE_LOG_LEVEL")
    # Most events a service's consumer fetches and applies in one transaction. A fetch takes
    # what is there (fewer when the consumer keeps up), so only a backlog fills a batch; then
    # each batch's fixed cost (a dozen statements, a commit, a relay pass over its events) is
    # spread over more events: compute's CPU per activity was 0.82x at 500 against 100.
    consumer_batch: int = Field(default=500, alias="EMPREINTE_CONSUMER_BATCH", ge=1, le=10_000)
    metrics_port: int | None = Field(default=None, alias="EMPREINTE_METRICS_PORT")
    gateway_host: str = Field(default="127.0.0.1", alias="EMPREINTE_GATEWAY_HOST")
    gateway_port: int = Field(default=8000, alias="EMPREINTE_GATEWAY_PORT")
    cors_origins: list[str] = Field(default_factory=list, alias="EMPREINTE_CORS_ORIGINS")
    rate_limit_per_minute: int = Field(default=600, alias="EMPREINTE_RATE_LIMIT_PER_MINUTE", ge=1)
    # Wrong API keys a client address may present per minute before it is refused (429).
    auth_failures_per_minute: int = Field(
        default=30, alias="EMPREINTE_AUTH_FAILURES_PER_MINUTE", ge=1
    )
    max_body_bytes: int = Field(default=1_048_576, alias="EMPREINTE_MAX_BODY_BYTES", ge=1024)
    # REST uploads (/v1/activities, /v1/request-logs) stream, so they may be far larger.
    max_upload_bytes: int = Field(
        default=1_073_741_824, alias="EMPREINTE_MAX_UPLOAD_BYTES", ge=1024
    )
