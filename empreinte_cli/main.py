import typer

app = typer.Typer(no_args_is_help=True, help="Empreinte: carbon accounting backend.")


@app.command()
def version() -> None:
    """Print the installed version."""
    from importlib.metadata import version as v

    typer.echo(v("empreinte"))
