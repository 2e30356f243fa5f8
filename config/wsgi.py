import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")

application = get_wsgi_application()

# What is loaded by now (Django, the apps, their modules) lives as long as the process: moved out
# of the garbage collector's reach, it is no longer walked by each full collection, which on a
# page that allocates much (a product list) was about 7% of its cost.
gc.freeze()
