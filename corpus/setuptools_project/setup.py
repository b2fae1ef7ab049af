# A setuptools project around one small extension: ftready stress and check
# build it from here (offline, Debian's setuptools wheel).
from setuptools import Extension, setup

setup(
    name="ftcorpus-counter",
    version="0.1",
    ext_modules=[Extension("ftcorpus_counter", ["src/ftcorpus_counter.c"])],
)
