"""
nevowcache: page-output caching for Nevow and twisted.web.
"""

from setuptools import find_packages, setup

setup(
    name="nevowcache",
    version="0.1.0",
    description="Page-output cache for Nevow and twisted.web: "
                "stale-while-revalidate, single-flight, bounded, shareable",
    long_description=open("README.md").read(),
    long_description_content_type="text/markdown",
    license="MIT",
    packages=find_packages(exclude=["tests", "tests.*", "demo", "bench"]),
    python_requires=">=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*, !=3.4.*, !=3.5.*",
    install_requires=[
        "Twisted>=20.3.0",
        "zope.interface",
    ],
    extras_require={
        "nevow": ["Nevow==0.14.5; python_version < '3'"],
        "redis": ["txredisapi<=1.4.7; python_version < '3'",
                  "txredisapi; python_version >= '3'"],
    },
    classifiers=[
        "Framework :: Twisted",
        "License :: OSI Approved :: MIT License",
        "Programming Language :: Python :: 2.7",
        "Programming Language :: Python :: 3",
        "Topic :: Internet :: WWW/HTTP :: Dynamic Content",
    ],
)
