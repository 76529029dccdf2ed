"""The generator of the papi surface, in parts (``tools/generate_endpoints.py`` runs it).

* :mod:`.spec`    the operations: endpoints.json, responses.json and overrides.json read
                  into :class:`~.spec.Op` records (names, namespaces, parameter kinds, rules);
* :mod:`.text`    docstrings, wrapping, ``ruff format``;
* :mod:`.table`   ``binance_papi_async/endpoints/_table.py``;
* :mod:`.models`  ``binance_papi_async/models_generated/``;
* :mod:`.api`     ``binance_papi_async/api/_generated/``;
* :mod:`.fields`  the response fields' types and readers;
* :mod:`.docs`    ``docs/endpoints.md`` and ``binance_papi_async/testing/_examples.py``;
* :mod:`.readme`  the counts README.md states, between its markers.
"""
