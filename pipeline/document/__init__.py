"""The document of one dump: normalize the model, name codes, sign the crash, validate."""
