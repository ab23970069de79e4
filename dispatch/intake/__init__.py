"""Real intake paths (12345 work orders, Open311, MQTT) that feed the writer like report_batch.

Qt-free. config.py reads the `[intake.*]` tables of `dispatch serve --config FILE`; each intake
registers its own section reader there. http.py serves the intakes' routes (Starlette on
uvicorn) inside the backend's event loop; submit.py is the one way in to the writer.
"""
