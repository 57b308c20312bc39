import { Model, snakeCaseMappers } from 'objection';

/** Models speak camelCase; the tables are snake_case. */
export class BaseModel extends Model {
  static override get columnNameMappers() {
    return snakeCaseMappers();
  }
}
