"""The network edge: the HTTP client, the address policy, robots.txt and URL spelling.

``client`` fetches (conditional GET, politeness, caps), ``addresses`` decides which hosts may be
reached, ``content`` which bodies may be read, ``robots`` what a site allows, ``urls`` how one
resource is spelled once.
"""
