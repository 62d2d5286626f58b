"""Celery tasks of the outbox: send one mail (queued after commit), and the sweep (beat)."""

from celery import shared_task

from . import mail


@shared_task(name="accounts.mail_send", ignore_result=True)
def mail_send(mail_id: int) -> str:
    return mail.mail_send(mail_id)


@shared_task(name="accounts.mails_sweep", ignore_result=True)
def mails_sweep() -> int:
    return mail.mails_sweep()
