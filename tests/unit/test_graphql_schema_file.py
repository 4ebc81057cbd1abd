from gateway.schema.root import SCHEMA_FILE, schema


def test_the_committed_schema_is_the_running_schema() -> None:
    committed = SCHEMA_FILE.read_text()
    assert committed == str(schema) + "\n", (
        "gateway/schema.graphql differs from the running schema: "
        "run `empreinte gateway export-schema` and review the diff as an API change"
    )
