"""The buyers' room: the category tree, category listings with facets, product pages with their
panels (`catalogue.panels`), and the products API, every price from `catalogue.strategy` for the
organisation the request acts for."""
