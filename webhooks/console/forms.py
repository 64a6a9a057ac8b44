"""The console's forms; each carries Flask-WTF's CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from models import AuditAction, Channel, EventType, OfficerRole


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    code = StringField(
        "Code from your authenticator app, or a recovery code", validators=[Length(max=40)]
    )


class EnrolForm(FlaskForm):
    code = StringField("Code shown by the app", validators=[DataRequired(), Length(max=12)])


class OwnPasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=200)]
    )
    new_password = PasswordField(
        "New password (12 characters or more)", validators=[DataRequired(), Length(max=200)]
    )
    confirm = PasswordField("New password again", validators=[DataRequired(), Length(max=200)])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class ReplyForm(FlaskForm):
    body = TextAreaField("Reply to the victim", validators=[DataRequired(), Length(max=1600)])


class NoteForm(FlaskForm):
    note = TextAreaField(
        "Internal note (never sent)", validators=[DataRequired(), Length(max=4000)]
    )


class CaseForm(FlaskForm):
    case_ref = StringField("Crime reference", validators=[DataRequired(), Length(max=64)])
    crime_type = StringField("Crime type", validators=[DataRequired(), Length(max=200)])
    officer_in_charge = StringField(
        "Officer in charge", validators=[DataRequired(), Length(max=200)]
    )


class VictimForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    phone = StringField("Mobile number", validators=[DataRequired(), Length(max=30)])
    channel = SelectField(
        "Channel", choices=[SelectChoice(c.value, c.value.upper()) for c in Channel]
    )
    language = SelectField(
        "Language", choices=[SelectChoice("en", "English"), SelectChoice("cy", "Cymraeg")]
    )
    date_of_birth = DateField("Date of birth", validators=[DataRequired()])
    enhanced_rights = BooleanField("Enhanced rights under the Victims' Code")
    safe_contact = BooleanField("Safe-contact mode (no case details in unsolicited messages)")
    update_every_days = IntegerField(
        "Update at least every (days)", default=28, validators=[NumberRange(1, 365)]
    )


class SettingsForm(FlaskForm):
    """A victim's settings as an officer changes them, having spoken to the victim."""

    channel = SelectField(
        "Channel", choices=[SelectChoice(c.value, c.value.upper()) for c in Channel]
    )
    language = SelectField(
        "Language", choices=[SelectChoice("en", "English"), SelectChoice("cy", "Cymraeg")]
    )
    safe_contact = BooleanField("Safe-contact mode (no case details in unsolicited messages)")
    enhanced_rights = BooleanField("Enhanced rights under the Victims' Code")
    update_every_days = IntegerField(
        "Update at least every (days)", validators=[DataRequired(), NumberRange(1, 365)]
    )
    quiet_start = TimeField("Quiet hours from", validators=[DataRequired()])
    quiet_end = TimeField("Quiet hours until", validators=[DataRequired()])


class EventForm(FlaskForm):
    type = SelectField(
        "Event",
        choices=[SelectChoice(e.value, e.value.replace("_", " ").capitalize()) for e in EventType],
    )
    occurred_at = DateTimeLocalField(
        "When (UTC)", format="%Y-%m-%dT%H:%M", validators=[DataRequired()]
    )
    summary = TextAreaField(
        "Summary the victim may be told", validators=[DataRequired(), Length(max=1000)]
    )
    summary_cy = TextAreaField("The same in Welsh (optional)", validators=[Length(max=1000)])


class ScheduledUpdateForm(FlaskForm):
    send_at = DateTimeLocalField(
        "When (UK time)", format="%Y-%m-%dT%H:%M", validators=[DataRequired()]
    )
    text_en = TextAreaField("Update in English", validators=[Length(max=1000)])
    text_cy = TextAreaField("Update in Welsh", validators=[Length(max=1000)])
    bilingual = BooleanField("Send both languages to every victim")


class OfficerForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    display_name = StringField("Name and rank", validators=[DataRequired(), Length(max=200)])
    role = SelectField("Role", choices=[SelectChoice(r.value, r.value) for r in OfficerRole])
    password = PasswordField("Password (12 characters or more)", validators=[DataRequired()])


class OfficerChangeForm(FlaskForm):
    role = SelectField("Role", choices=[SelectChoice(r.value, r.value) for r in OfficerRole])
    active = BooleanField("Active")
    unlock = BooleanField("Lift sign-in pause")
    reset_second_factor = BooleanField("Reset second factor")
    password = PasswordField("New password (optional)", validators=[Optional()])


class CaseOfficerForm(FlaskForm):
    username = StringField("Officer (username)", validators=[DataRequired(), Length(max=64)])


class EraseForm(FlaskForm):
    confirm = BooleanField(
        "I understand that everything held about this victim is deleted for good",
        validators=[DataRequired()],
    )
    confirm_open = BooleanField("Erase even though a case of theirs is open")


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search: it changes nothing

    actor = StringField("Officer (username)", validators=[Optional(), Length(max=64)])
    action = SelectField(
        "Action",
        choices=[SelectChoice("", "any")] + [SelectChoice(a.value, a.value) for a in AuditAction],
        default="",
    )
    victim_id = IntegerField("Victim id", validators=[Optional()])
    since = DateField("From", validators=[Optional()])
    until = DateField("To", validators=[Optional()])


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False  # a GET report: it changes nothing

    start = DateField("From", validators=[DataRequired()])
    end = DateField("To", validators=[DataRequired()])
