"""Project tooling that is not a test: `just image` / `just image-test` (`python -m tools.image`) and
`just contract` (`python -m tools.contract`). Never collected by pytest; never imports `tests`."""
