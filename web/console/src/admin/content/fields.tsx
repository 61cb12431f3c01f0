/**
 * A kind's fields as inputs, translatable ones side by side per language: the record's default
 * language is the plain field (`title`), every other enabled language `translations.<code>.title`
 * (src/content/translations.ts). On a phone the languages stack.
 */
import { useI18n } from '../../i18n';
import { BooleanInput, NumberInput, SelectInput, TagsInput, TextInput } from '../ui/inputs';
import type { KindField } from './kinds';
import type { SiteLanguage } from './languages';

export function TranslatedField({
  field,
  languages,
}: {
  field: Pick<KindField, 'name' | 'type' | 'required'>;
  languages: readonly SiteLanguage[];
}) {
  const { t } = useI18n();
  const label = t(`admin.field.${field.name}`);
  return (
    <fieldset className="translations">
      <legend>{label}</legend>
      <div className="translation-grid">
        {languages.map((lang, i) => (
          <TextInput
            key={lang.code}
            source={i === 0 ? field.name : `translations.${lang.code}.${field.name}`}
            label={`${label} (${lang.nativeName})`}
            lang={lang.code}
            required={i === 0 && field.required}
            multiline={field.type === 'textarea'}
            hint={i === 0 ? t('admin.hint.default_language') : undefined}
          />
        ))}
      </div>
    </fieldset>
  );
}

export function PlainField({ field }: { field: KindField }) {
  const { t } = useI18n();
  const label = t(`admin.field.${field.name}`);
  switch (field.type) {
    case 'boolean':
      return <BooleanInput source={field.name} label={label} />;
    case 'number':
      return (
        <NumberInput source={field.name} label={label} required={field.required} min={field.min} max={field.max} />
      );
    case 'select':
      return (
        <SelectInput
          source={field.name}
          label={label}
          required={field.required}
          emptyLabel={field.required ? undefined : t('admin.choice.none')}
          choices={(field.choices ?? []).map((c) => ({ id: c, name: t(`admin.choice.${c}`) }))}
        />
      );
    case 'tags':
      return <TagsInput source={field.name} label={label} />;
    case 'url':
    case 'date':
    case 'text':
    case 'textarea':
      return (
        <TextInput
          source={field.name}
          label={label}
          required={field.required}
          nullable={field.nullable}
          type={field.type === 'textarea' ? 'text' : field.type}
          multiline={field.type === 'textarea'}
        />
      );
  }
}

export function KindFields({
  fields,
  languages,
}: {
  fields: readonly KindField[];
  languages: readonly SiteLanguage[];
}) {
  return (
    <>
      {fields.map((f) =>
        f.translatable ? (
          <TranslatedField key={f.name} field={f} languages={languages} />
        ) : (
          <PlainField key={f.name} field={f} />
        ),
      )}
    </>
  );
}
