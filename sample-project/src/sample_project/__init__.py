"""Train, evaluate, score and monitor the model.

Entry points, each runnable as ``python -m <package>.<module>``:

- ``train``: fit the model on the configured data and save it to models/.
- ``evaluate``: the model-quality gate against config/model.yml.
- ``score``: the Azure ML online-endpoint contract and batch scoring.
- ``monitor``: data-drift and metric checks on a new batch.
"""

__version__ = "0.1.0"
