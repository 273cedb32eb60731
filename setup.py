from setuptools import find_packages, setup

setup(
    name="thought-cloning",
    version="0.1.0",
    description="Thought Cloning (Hu & Clune, NeurIPS 2023) on BabyAI: agents that think in language while acting",
    license="BSD-3-Clause",
    python_requires=">=3.10",
    packages=find_packages(include=["babyai", "babyai.*"]),
    # the teaching page: plain HTML/JS/CSS served by babyai.teach.server (no build step)
    package_data={"babyai.teach": ["static/*.html", "static/*.js", "static/*.css"]},
    # `thought-cloning COMMAND ARGS...` runs `python -m babyai.commands.COMMAND ARGS...` (thought-cloning quickstart)
    entry_points={"console_scripts": ["thought-cloning = babyai.commands:cli"]},
    install_requires=[
        "torch>=2.0",
        "gymnasium>=1.0",
        "minigrid>=3.0",
        "numpy>=1.24",
        "blosc>=1.11",
        "tensorboardX>=2.6",
        "tqdm>=4.60",
        # pictures: learning curves, difficulty plots, episode GIFs
        "matplotlib>=3.5",
        "imageio>=2.20",
        "pillow>=9",
    ],
    extras_require={
        # teaching sessions in the browser (scripts/teach.py): the page's server
        "teach": ["fastapi>=0.100", "uvicorn>=0.23", "websockets>=11"],
        # Farama's offline-RL datasets: scripts/export_minari.py, scripts/import_minari.py
        "minari": ["minari[hdf5]>=0.5.4"],
        # the browser test drives Debian's chromium + chromium-driver (apt-get, see .ci/run) with Selenium
        "test": ["pytest>=7", "pytest-xdist>=3", "minari[hdf5]>=0.5.4", "fastapi>=0.100", "uvicorn>=0.23", "websockets>=11",
                 "selenium>=4.10"],
    },
)
