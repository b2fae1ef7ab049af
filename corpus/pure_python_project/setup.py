# A package whose C accelerator is optional and is not built here (a
# pure-Python fallback): ftready check must not call it READY.
import os
from setuptools import Extension, setup

ext = [Extension("purepkg._speedups", ["purepkg/_speedups.c"])]
setup(name="purepkg", version="0.1", packages=["purepkg"],
      ext_modules=ext if os.environ.get("PUREPKG_WITH_C") else [])
