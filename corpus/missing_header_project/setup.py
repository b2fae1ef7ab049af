# An extension that needs a system library's header this machine lacks: the
# build fails, and ftready check must say INCOMPLETE and name the header.
from setuptools import Extension, setup

setup(name="ftneeds", version="0.1",
      ext_modules=[Extension("ftneeds", ["ftneeds.c"])])
