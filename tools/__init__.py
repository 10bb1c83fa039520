"""Project tooling that is not a test: `just image` / `just image-test` (`python -m tools.image`),
`just contract` (`python -m tools.contract`) and `just openapi` / `just openapi-check`
(`python -m tools.openapi`). Never collected by pytest; never imports `tests`."""
