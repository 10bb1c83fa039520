"""The documentation site's build-time pieces (mkdocs runs them through docs/hooks/build.py): the
configuration reference rendered from the settings, and text written for the repository (the
README's sections, the deploy guides) placed into the site with its links still working."""
