"""Work lists at scale: the inbox, the done list and a campaign's register, filtered, searched,
sorted and paged the same way, and the views people keep of them.

- ``filters``: the filter's names and values, read from a page's address or the API's query.
- ``keyset``: pages that start after the last row's sort key, never at an offset.
- ``search``: Chinese words found through trigram indexes (FTS5, pg_trgm) or, when shorter than
  three characters, by LIKE over the already narrowed rows; ranking and highlighting.
- ``items``: one page of tasks and rectifications, its count and the next page's key.
- ``views``: saved views, kept by their owner and shared with a campaign's leading group.
"""
