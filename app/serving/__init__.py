"""The model server that runs inside a ModelDesk image and behind ``modeldesk serve``.

It is copied into the image as it is, so it imports nothing from the rest of ``app``: only
its runtime packages (FastAPI, uvicorn, pandas, numpy, scikit-learn, skops,
prometheus_client) and the bundle's own ``code/`` folder. Start it with
``python -m app.serving --bundle DIR``, where DIR is one bundle or a folder of bundles (one
process then serves them all, each on its own routes).

    model_loader   bundle folder → verified, loaded model (SHA-256 before skops)
    schema         the signature as precomputed per-column checks (422 naming the column)
    parsing        MLflow, Open Inference Protocol v2 and CSV bodies → column lists
    batcher        concurrent requests → one predict call (asyncio queue + one thread)
    predictor      column lists → one DataFrame → predictions (and probabilities)
    served         one loaded model: checks, predictor, batcher, log, metrics, answers
    repository     the models of one server by name and version; the folder they come from
    prediction_log JSON Lines, one line per row, rotated by size
    metrics        Prometheus counters and histograms
    http           the ASGI app: auth, body cap, access log, the prediction path
    routes         health, metadata, /metrics and the OIP model repository extension
    server         uvicorn with graceful SIGTERM
"""

SERVER_NAME = "modeldesk-serving"
SERVER_VERSION = "0.1.0"
