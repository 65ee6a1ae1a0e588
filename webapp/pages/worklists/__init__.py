"""The work lists' pages beside the lists themselves (the inbox, the register ... keep their own
modules): what they share, and the views people keep of them.

- ``filter_bar``   the filter from the address, the filter bar's choices, the links to the pages,
                   the form that saves a filter as a view
- ``saved_views``  saved views (「视图」): keep a filter, share it with a leading group, delete it
"""
