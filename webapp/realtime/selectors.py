from webapp.labeling.models import Project


def project_exists(*, project_id: int) -> bool:
    return Project.objects.filter(pk=project_id).exists()
