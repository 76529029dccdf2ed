"""The request path (internal): :class:`Transport` and its steps, one module each.

* :mod:`.transport`: the session's lifecycle and the loop every request goes through;
* :mod:`.call`: the state of one call across its attempts;
* :mod:`.url`: prepare and sign (the query string and the URL), the base URL's checks;
* :mod:`.send_once`: the guard against aiohttp re-sending a write by itself;
* :mod:`.gate`: the connection slots of the client's own pool, first come, first served;
* :mod:`.body`: a response body read within ``max_response_size``;
* :mod:`.deadlines`: the total timeout and the wait for a connection slot, one loop
  timer per 10 ms;
* :mod:`.classify`: the decoded answer, or the typed error of a status or a failed send;
* :mod:`.retrying`: decide the retry;
* :mod:`.reporting`: events to the ``on_event`` hook and the log;
* :mod:`.clock_sync`: the offset to Binance server time.
"""

from .transport import Transport

__all__ = ["Transport"]
