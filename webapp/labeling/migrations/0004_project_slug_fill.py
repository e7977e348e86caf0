"""Projects stored with an empty slug (a name with no ASCII letters, e.g. only emoji) get one from the name."""
import hashlib

from django.db import migrations


def fill_empty_slugs(apps, schema_editor):
    Project = apps.get_model("labeling", "Project")
    for project in Project.objects.filter(slug=""):
        base = "project-" + hashlib.sha256(project.name.encode()).hexdigest()[:8]
        slug, n = base, 2
        while Project.objects.filter(slug=slug).exists():
            slug, n = f"{base}-{n}", n + 1
        Project.objects.filter(pk=project.pk).update(slug=slug)


class Migration(migrations.Migration):
    dependencies = [("labeling", "0003_prediction_source")]

    operations = [migrations.RunPython(fill_empty_slugs, migrations.RunPython.noop)]
