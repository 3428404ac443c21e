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
    # Type information (PEP 561): stubs beside the Python 2.7-compatible
    # source.
    package_data={"nevowcache": ["py.typed", "*.pyi"]},
    zip_safe=False,
    python_requires=">=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*, !=3.4.*, !=3.5.*",
    install_requires=[
        "Twisted>=20.3.0",
        "zope.interface",
    ],
    extras_require={
        # Nevow 0.14.5 runs on Twisted 20.3.0, the last Twisted for Python
        # 2.7; its dependencies are pinned to their last releases for 2.7
        # (later ones dropped it without saying so: Automat 22.10 breaks
        # twisted.application, so twistd and every .tac file).
        "nevow": ["Nevow==0.14.5; python_version < '3'",
                  "Twisted==20.3.0; python_version < '3'",
                  "Automat==20.2.0; python_version < '3'",
                  "attrs==21.4.0; python_version < '3'",
                  "constantly==15.1.0; python_version < '3'",
                  "hyperlink==21.0.0; python_version < '3'",
                  "idna==2.10; python_version < '3'",
                  "incremental==21.3.0; python_version < '3'",
                  "PyHamcrest==1.10.1; python_version < '3'",
                  "six==1.17.0; python_version < '3'",
                  "typing==3.10.0.0; python_version < '3'",
                  "zope.interface==5.5.2; python_version < '3'"],
        # nevowcache.klein: Klein runs on Python 3 only.
        "klein": ["klein; python_version >= '3'"],
        # nevowcache.metrics.PageCacheCollector.
        "prometheus": ["prometheus_client<0.13; python_version < '3'",
                       "prometheus_client; python_version >= '3'"],
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
