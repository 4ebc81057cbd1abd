# One image for every Empreinte process; the command picks the service:
#   empreinte service run factors | inventory | compute | reporting
#   empreinte gateway run
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY kernel kernel
COPY contracts contracts
COPY services services
COPY gateway gateway
COPY infra infra
COPY empreinte_cli empreinte_cli
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --system --uid 10001 empreinte
COPY --from=build /install /usr/local
USER empreinte
ENV PYTHONUNBUFFERED=1
ENTRYPOINT ["empreinte"]
CMD ["--help"]
