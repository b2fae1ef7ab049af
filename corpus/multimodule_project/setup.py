# Two extension modules in one package, built the old way: this setup.py
# imports distutils, which Python 3.13 no longer ships (setuptools provides
# it). ftready check must build both, scan what the build compiled (the
# shared header too, not tools/), and stress each module.
from distutils.core import Extension, setup

setup(
    name="ftmulti",
    version="0.1",
    packages=["ftmulti"],
    ext_modules=[
        Extension(
            "ftmulti._tally",
            ["src/tally.c", "src/third_party/minilib/minilib.c"],
            include_dirs=["src", "src/third_party/minilib"],
            define_macros=[("FTMULTI_STRICT", "1")],
        ),
        Extension("ftmulti._names", ["src/names.c"], include_dirs=["src"]),
    ],
)
